-- Links to reset a password, kept only as the SHA-256 of their token. A request for an
-- address without an account is recorded too, without a user, so that it costs what a
-- real one costs; nobody can be sent its token.
CREATE TABLE password_resets (
    id TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
CREATE INDEX password_resets_expiry ON password_resets (expires_at);
