-- Contracts declared within the last 72 months, with their user establishment (etu_id), unknown
-- codes flagged (kept, never an abort), plus the copies of temporary-work contracts in the user
-- establishment (numero suffixed with the agency SIRET, ett_contrat_id -> the agency contract).
-- @kind table
-- @key contrat_id
-- @previous table
-- @column contrat_id VARCHAR
-- @column etablissement_id VARCHAR
-- @column salarie_id VARCHAR
-- @column contrat_key VARCHAR
-- @column numero VARCHAR
-- @column date_debut DATE
-- @column date_debut_effective DATE
-- @column poste_id VARCHAR
-- @column nature_contrat VARCHAR
-- @column code_convention_collective VARCHAR
-- @column motif_recours VARCHAR
-- @column dispositif_politique_publique VARCHAR
-- @column lieu_travail VARCHAR
-- @column unite_mesure_quotite VARCHAR
-- @column quotite_contrat DECIMAL(18,2)
-- @column date_fin_previsionnelle DATE
-- @column date_fin_effective DATE
-- @column statut_fin TINYINT
-- @column date_fin_declaree DATE
-- @column date_fin_periode_paie DATE
-- @column motif_rupture VARCHAR
-- @column etu_siret VARCHAR
-- @column etu_id VARCHAR
-- @column ett_contrat_id VARCHAR
-- @column codes_inconnus VARCHAR
-- @column date_premiere_declaration DATE
-- @column date_derniere_declaration DATE
-- @column version_declaration VARCHAR
with reels as (
    select c.*, u.etablissement_id as etu_id,
           nullif(concat_ws(',',
               case when c.nature_contrat is not null and kn.code is null then 'nature_contrat' end,
               case when c.motif_recours is not null and km.code is null then 'motif_recours' end,
               case when c.dispositif_politique_publique is not null and kd.code is null
                   then 'dispositif_politique_publique' end
           ), '') as codes_inconnus
    from int_contrats c
    cross join run_params p
    left join int_etablissements u on u.siret = c.etu_siret
    left join codes_connus kn on kn.rubrique = 'nature_contrat' and kn.code = c.nature_contrat
    left join codes_connus km on km.rubrique = 'motif_recours' and km.code = c.motif_recours
    left join codes_connus kd
        on kd.rubrique = 'dispositif_politique_publique' and kd.code = c.dispositif_politique_publique
    where c.date_derniere_declaration > p.limite_retention
),
copies as (
    select substr(md5(concat('interim|', c.contrat_id, '|', i.etu_id)), 1, 16) as contrat_id,
           i.etu_id as etablissement_id,
           coalesce(own.salarie_id,
                    substr(md5(concat('salarie|', i.etu_siret, '|', s.salarie_key)), 1, 16)) as salarie_id,
           concat(c.numero, '_', i.ett_siret, '_', coalesce(cast(c.date_debut as varchar), '')) as contrat_key,
           concat(c.numero, '_', i.ett_siret) as numero,
           c.date_debut, c.date_debut_effective, c.poste_id, c.nature_contrat,
           c.code_convention_collective, c.motif_recours, c.dispositif_politique_publique,
           c.lieu_travail, c.unite_mesure_quotite, c.quotite_contrat, c.date_fin_previsionnelle,
           c.date_fin_effective, c.statut_fin, c.date_fin_declaree, c.date_fin_periode_paie,
           c.motif_rupture,
           cast(null as varchar) as etu_siret, cast(null as varchar) as etu_id,
           c.contrat_id as ett_contrat_id, c.codes_inconnus, c.date_premiere_declaration,
           c.date_derniere_declaration, c.version_declaration
    from reels c
    join int_contrats_interim i on i.contrat_id = c.contrat_id
    join int_salaries_tous s on s.salarie_id = c.salarie_id
    left join int_salaries_tous own on own.etablissement_id = i.etu_id and own.salarie_key = s.salarie_key
)
select contrat_id, etablissement_id, salarie_id, contrat_key, numero, date_debut,
       date_debut_effective, poste_id, nature_contrat, code_convention_collective, motif_recours,
       dispositif_politique_publique, lieu_travail, unite_mesure_quotite, quotite_contrat,
       date_fin_previsionnelle, date_fin_effective, statut_fin, date_fin_declaree, date_fin_periode_paie, motif_rupture,
       etu_siret, etu_id, cast(null as varchar) as ett_contrat_id, codes_inconnus,
       date_premiere_declaration, date_derniere_declaration, version_declaration
from reels
union all
select contrat_id, etablissement_id, salarie_id, contrat_key, numero, date_debut,
       date_debut_effective, poste_id, nature_contrat, code_convention_collective, motif_recours,
       dispositif_politique_publique, lieu_travail, unite_mesure_quotite, quotite_contrat,
       date_fin_previsionnelle, date_fin_effective, statut_fin, date_fin_declaree, date_fin_periode_paie, motif_rupture,
       etu_siret, etu_id, ett_contrat_id, codes_inconnus, date_premiere_declaration,
       date_derniere_declaration, version_declaration
from copies
