-- Knowledge bases, their documents (bytes + extracted text) and chunks. Vectors live in the
-- VectorIndex (Lucene on local disk by default), keyed by chunk id.
CREATE TABLE knowledge_base (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  name            TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  embedding_model TEXT NOT NULL,
  dimensions      INT NOT NULL DEFAULT 0,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX knowledge_base_tenant ON knowledge_base (tenant_id, created_at);

-- status: pending -> indexing -> indexed | failed. lease_owner/lease_until: the instance running
-- the job and until when; an expired lease (or one held by a restarted instance's own name) is
-- taken over, so a job resumes after a crash.
CREATE TABLE document (
  id           TEXT PRIMARY KEY,
  knowledge_id TEXT NOT NULL REFERENCES knowledge_base (id) ON DELETE CASCADE,
  tenant_id    TEXT NOT NULL,
  key_id       TEXT NOT NULL DEFAULT '',
  file_name    TEXT NOT NULL,
  file_type    TEXT NOT NULL,
  bytes        BIGINT NOT NULL,
  content      BYTEA NOT NULL,
  text         TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'pending',
  failure      TEXT NOT NULL DEFAULT '',
  chunk_count  INT NOT NULL DEFAULT 0,
  lease_owner  TEXT,
  lease_until  TIMESTAMPTZ,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX document_knowledge ON document (knowledge_id, created_at);
CREATE INDEX document_tenant ON document (tenant_id);
CREATE INDEX document_work ON document (status, created_at) WHERE status IN ('pending', 'indexing');

-- One row per chunk; id = '<document id>-<ordinal>' so a re-run of a job makes the same ids and
-- the index upsert by id keeps each chunk once. indexed: its vector is committed in the index.
CREATE TABLE chunk (
  id           TEXT PRIMARY KEY,
  document_id  TEXT NOT NULL REFERENCES document (id) ON DELETE CASCADE,
  knowledge_id TEXT NOT NULL,
  ordinal      INT NOT NULL,
  text         TEXT NOT NULL,
  tokens       INT NOT NULL,
  indexed      BOOLEAN NOT NULL DEFAULT false,
  UNIQUE (document_id, ordinal)
);
CREATE INDEX chunk_pending ON chunk (document_id, ordinal) WHERE NOT indexed;
