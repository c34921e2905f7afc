-- Up Migration

-- unitPrice is optional in POST /api/orders (DESIGN §6): NULL means the customer named no price, and
-- inventory prices the line from its catalogue. The CHECK (unit_price >= 0) still holds for given prices.
ALTER TABLE order_lines ALTER COLUMN unit_price DROP NOT NULL;

-- Down Migration

-- Refuses to run while an unpriced line exists; those orders would first need a price or deleting.
ALTER TABLE order_lines ALTER COLUMN unit_price SET NOT NULL;
