-- Withdraws the optional consent $2 (question id) of the registration whose access token is $1;
-- false when there is none to withdraw (admit_consent_withdraw).
SELECT admit_consent_withdraw($1, $2::integer)
