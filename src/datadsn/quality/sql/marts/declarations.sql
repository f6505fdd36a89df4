-- Declarations integrated, for the months this run rewrites (bookkeeping: what is pending is
-- what is not here; history: see quality/history.py).
select * from int_declarations
