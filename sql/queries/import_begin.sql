-- Starts the all-or-nothing transaction of admit import.
BEGIN
