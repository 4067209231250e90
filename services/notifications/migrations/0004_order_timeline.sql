-- Operators read what was sent about an order, for its timeline.
CREATE INDEX notifications_order ON notifications (order_id, id);
CREATE INDEX sms_messages_notification ON sms_messages (notification_id);
