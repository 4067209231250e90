-- What each user chose, per topic, besides the inbox (always on); a topic without a row
-- keeps the defaults (email yes, text messages no).
CREATE TABLE notification_preferences (
    user_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    email BIGINT NOT NULL CHECK (email IN (0, 1)),
    sms BIGINT NOT NULL CHECK (sms IN (0, 1)),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, topic)
);

-- Every attempt to send a notification by text message, with the message: the sandbox
-- provider sends nothing, so these rows are what it delivered.
CREATE TABLE sms_messages (
    id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    provider TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
    error TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX sms_messages_user ON sms_messages (user_id, id);
