-- admit admin add. $1 email, $2 password hash, $3 event slugs ('{}': all events).
SELECT outcome, detail FROM admit_admin_add($1, $2, $3::text[])
