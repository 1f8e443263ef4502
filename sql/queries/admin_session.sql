-- The admin behind a session cookie, if the session is alive. $1 SHA-256 of the session id
-- (hex bytea).
SELECT admin_id, email, all_events FROM admit_admin_session_touch($1::bytea)
