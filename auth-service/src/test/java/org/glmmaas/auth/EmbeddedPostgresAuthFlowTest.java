package org.glmmaas.auth;

/** {@link AuthFlowContract} on the real embedded PostgreSQL (zonky, PG 17). */
class EmbeddedPostgresAuthFlowTest extends AuthFlowContract {}
