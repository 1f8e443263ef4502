-- Follows an email confirmation link; see admit_email_change_confirm. $1 the link's token.
SELECT outcome, token, new_email FROM admit_email_change_confirm($1)
