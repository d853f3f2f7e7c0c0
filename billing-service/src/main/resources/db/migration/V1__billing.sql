-- Billing schema. Money is bigint micro-units of the account currency, never floating point.

-- Price catalogue: one row per model and effective date; the row with the latest
-- effective_from <= the usage date applies.
create table price (
  model                        text   not null,
  effective_from               date   not null,
  input_micros_per_mtok        bigint not null check (input_micros_per_mtok >= 0),
  cached_input_micros_per_mtok bigint not null check (cached_input_micros_per_mtok >= 0),
  output_micros_per_mtok       bigint not null check (output_micros_per_mtok >= 0),
  updated_at                   timestamptz not null default now(),
  primary key (model, effective_from)
);

-- Prepaid accounts. reserved_micros is the sum of OPEN reservations (kept in step in the same
-- transactions that open and close them); available = balance_micros - reserved_micros.
create table account (
  tenant_id       text   primary key,
  currency        text   not null,
  balance_micros  bigint not null default 0,
  reserved_micros bigint not null default 0 check (reserved_micros >= 0),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);

create table top_up (
  id            bigserial primary key,
  tenant_id     text   not null references account (tenant_id),
  amount_micros bigint not null check (amount_micros > 0),
  created_at    timestamptz not null default now()
);
create index top_up_tenant_time on top_up (tenant_id, created_at);

create table reservation (
  request_id    text   primary key,
  tenant_id     text   not null references account (tenant_id),
  model         text   not null,
  amount_micros bigint not null check (amount_micros >= 0),
  status        text   not null check (status in ('OPEN', 'SETTLED', 'RELEASED', 'EXPIRED')),
  created_at    timestamptz not null default now(),
  expires_at    timestamptz not null,
  closed_at     timestamptz
);
create index reservation_open_expiry on reservation (expires_at) where status = 'OPEN';

-- Append-only usage ledger; request_id is the idempotency key of the usage event.
create table usage_ledger (
  id                bigserial primary key,
  request_id        text   not null unique,
  tenant_id         text   not null,
  key_id            text   not null,
  model             text   not null,
  prompt_tokens     int    not null check (prompt_tokens >= 0),
  cached_tokens     int    not null check (cached_tokens >= 0),
  completion_tokens int    not null check (completion_tokens >= 0),
  cost_micros       bigint not null check (cost_micros >= 0),
  currency          text   not null,
  finish_reason     text   not null,
  worker_id         text   not null,
  start_time_ms     bigint not null,
  end_time_ms       bigint not null,
  usage_date        date   not null,
  trace_id          text   not null,
  recorded_at       timestamptz not null default now()
);
create index usage_ledger_tenant_date on usage_ledger (tenant_id, usage_date);

create function usage_ledger_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'usage_ledger is append-only';
end $$;
create trigger usage_ledger_no_update before update or delete on usage_ledger
  for each row execute function usage_ledger_append_only();

-- Daily rollups per tenant / day (UTC) / model / key, kept in the ingest transaction.
create table usage_daily (
  tenant_id         text   not null,
  usage_date        date   not null,
  model             text   not null,
  key_id            text   not null,
  requests          bigint not null,
  prompt_tokens     bigint not null,
  cached_tokens     bigint not null,
  completion_tokens bigint not null,
  cost_micros       bigint not null,
  primary key (tenant_id, usage_date, model, key_id)
);
