-- Pictures of merchants and products, as served: the upload decoded, checked and resized
-- to two JPEGs. Each upload is a new row with a new id, so what an image's URL shows never
-- changes and clients may cache it for good; the owner's previous picture goes when it
-- takes the new one.
CREATE TABLE images (
    id TEXT PRIMARY KEY,
    -- The merchant or the product the picture shows.
    owner_id TEXT NOT NULL,
    -- At most 800 px a side.
    full_size BYTEA NOT NULL,
    -- 160 px square.
    thumb BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX images_owner ON images (owner_id);

ALTER TABLE merchants ADD COLUMN image_id TEXT REFERENCES images (id);
ALTER TABLE products ADD COLUMN image_id TEXT REFERENCES images (id);
-- A picture is removed only once nothing shows it: these find what does.
CREATE INDEX merchants_image ON merchants (image_id) WHERE image_id IS NOT NULL;
CREATE INDEX products_image ON products (image_id) WHERE image_id IS NOT NULL;
