-- Caches the rendered QR code of a ticket version; an older version never replaces a newer.
-- $1 registration id, $2 reissue, $3 svg, $4 png (bytea, hex text form).
INSERT INTO ticket_images (registration_id, reissue, svg, png)
VALUES ($1, $2, $3, $4::bytea)
ON CONFLICT (registration_id) DO UPDATE
SET reissue = EXCLUDED.reissue, svg = EXCLUDED.svg, png = EXCLUDED.png
WHERE ticket_images.reissue < EXCLUDED.reissue
