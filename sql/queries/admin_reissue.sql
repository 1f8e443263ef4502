-- An organiser reissues a ticket. $1 admin id, $2 slug, $3 registration id, $4 new access token.
SELECT outcome, reissue, token FROM admit_admin_reissue($1::integer, $2, $3::integer, $4)
