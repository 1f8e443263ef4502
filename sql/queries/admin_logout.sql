-- Ends a session on the server. $1 SHA-256 of the session id (hex bytea).
DELETE FROM admin_sessions WHERE id_hash = $1::bytea
