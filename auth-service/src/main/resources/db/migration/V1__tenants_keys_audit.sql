-- Tenants, their API keys and the audit log of admin actions.
-- Limits: 0 means unlimited (the Limits message of glm.auth.v1).

CREATE TABLE tenants (
    id                  text        PRIMARY KEY,
    name                text        NOT NULL UNIQUE,
    status              text        NOT NULL CHECK (status IN ('ACTIVE', 'SUSPENDED')),
    requests_per_minute integer     NOT NULL DEFAULT 0 CHECK (requests_per_minute >= 0),
    tokens_per_minute   bigint      NOT NULL DEFAULT 0 CHECK (tokens_per_minute >= 0),
    max_concurrency     integer     NOT NULL DEFAULT 0 CHECK (max_concurrency >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- The secret itself is never stored in the clear:
--   secret_hash       HMAC-SHA256(pepper(master key version), secret)   raw-key path, constant-time compare
--   secret_ciphertext AES-256-GCM(nonce || ciphertext || tag) under the master key version   JWT path
CREATE TABLE api_keys (
    id                  text        PRIMARY KEY,
    tenant_id           text        NOT NULL REFERENCES tenants (id),
    name                text        NOT NULL,
    allowed_models      text[]      NOT NULL DEFAULT '{}',
    requests_per_minute integer     NOT NULL DEFAULT 0 CHECK (requests_per_minute >= 0),
    tokens_per_minute   bigint      NOT NULL DEFAULT 0 CHECK (tokens_per_minute >= 0),
    max_concurrency     integer     NOT NULL DEFAULT 0 CHECK (max_concurrency >= 0),
    expires_at          timestamptz,
    revoked_at          timestamptz,
    last_used_at        timestamptz,
    secret_hash         bytea       NOT NULL,
    secret_ciphertext   bytea       NOT NULL,
    master_key_version  integer     NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);
CREATE INDEX api_keys_master_key_version_idx ON api_keys (master_key_version);

CREATE TABLE admin_audit (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL,
    action      text        NOT NULL,
    target_type text        NOT NULL,
    target_id   text        NOT NULL,
    details     jsonb       NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX admin_audit_target_idx ON admin_audit (target_type, target_id);
