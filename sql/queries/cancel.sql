-- Cancels a registration by its access token. $1 token.
SELECT outcome, registration_id, promoted_id FROM admit_cancel($1)
