-- Sets an event's retention and privacy notice; NULL leaves a setting as it is. $1 slug, $2
-- days, $3 privacy notice URL, $4 data controller. 'set' or 'not_found'.
SELECT admit_event_privacy($1, $2::integer, $3, $4)
