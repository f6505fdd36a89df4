-- Job labels; last declared month is a max, so a late file never moves it backwards.
-- @kind table
-- @key poste_id
with candidats as (
    select poste_id, poste_key, date_derniere_declaration
    from prev_postes
    union all
    select substr(md5(concat('poste|', c.poste_key)), 1, 16), c.poste_key, c.mois
    from stg_contrats c
    join int_declarations_nouvelles n on n.version_declaration = c.version_declaration
    where c.poste_key is not null
)
select poste_id, poste_key, max(date_derniere_declaration) as date_derniere_declaration
from candidats
group by poste_id, poste_key
