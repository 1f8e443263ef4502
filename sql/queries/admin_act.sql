-- An organiser's confirmed action, once per form key: see admit_admin_act in
-- sql/migrations/011_admin_safe_actions.sql. $1 admin id, $2 slug, $3 registration id,
-- $4 action ('cancel', 'reissue', 'promote', 'checkin'), $5 form key, $6 check-in list id
-- (NULL otherwise), $7 forced check-in, $8 new access token (reissue) or scan nonce (check-in).
SELECT outcome, promoted_id, replayed
FROM admit_admin_act($1::integer, $2, $3::integer, $4, $5, $6::integer, $7::boolean, $8)
