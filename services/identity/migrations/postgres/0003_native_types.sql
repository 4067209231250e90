-- Native types: ids are uuid and instants timestamptz, as the stores bind and read them;
-- each table is rewritten once, its rows converted in place. The foreign keys to users
-- are dropped while both ends change type, then made again as they were.
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_user_id_fkey;
ALTER TABLE addresses DROP CONSTRAINT addresses_user_id_fkey;
ALTER TABLE password_resets DROP CONSTRAINT password_resets_user_id_fkey;

ALTER TABLE users
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN email_verified_at TYPE timestamptz USING timestamptz 'epoch' + email_verified_at * interval '1 millisecond',
    ALTER COLUMN disabled_at TYPE timestamptz USING timestamptz 'epoch' + disabled_at * interval '1 millisecond',
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond';

ALTER TABLE refresh_tokens
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN family_id TYPE uuid USING family_id::uuid,
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN expires_at TYPE timestamptz USING timestamptz 'epoch' + expires_at * interval '1 millisecond',
    ALTER COLUMN spent_at TYPE timestamptz USING timestamptz 'epoch' + spent_at * interval '1 millisecond',
    ALTER COLUMN revoked_at TYPE timestamptz USING timestamptz 'epoch' + revoked_at * interval '1 millisecond';

ALTER TABLE addresses
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 millisecond';

ALTER TABLE password_resets
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 millisecond',
    ALTER COLUMN expires_at TYPE timestamptz USING timestamptz 'epoch' + expires_at * interval '1 millisecond',
    ALTER COLUMN used_at TYPE timestamptz USING timestamptz 'epoch' + used_at * interval '1 millisecond';

ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE addresses ADD CONSTRAINT addresses_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE password_resets ADD CONSTRAINT password_resets_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
