-- The cached PNG of a ticket's current version, if rendered. $1 token.
SELECT r.id, r.event_id, r.reissue, r.status, t.png
FROM registrations r
LEFT JOIN ticket_images t ON t.registration_id = r.id AND t.reissue = r.reissue
WHERE r.token = $1
