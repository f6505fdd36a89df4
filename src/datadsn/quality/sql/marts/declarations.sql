-- Declarations integrated so far (bookkeeping: what is pending is what is not here).
select * from int_declarations
