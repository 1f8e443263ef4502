-- Is the database answering?
SELECT 1
