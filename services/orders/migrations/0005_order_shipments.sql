-- The parcel a shipping order went out as: its shipment (tracked by delivery), carrier and
-- tracking number.
ALTER TABLE orders ADD COLUMN shipment_id TEXT;
ALTER TABLE orders ADD COLUMN carrier TEXT;
ALTER TABLE orders ADD COLUMN tracking_number TEXT;
