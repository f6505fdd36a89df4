-- For each contract line declared in this run (effective declarations only), what needs no
-- merge: the employee's key, the ids a new contract would take, and the end of its last paid
-- period (the best end date when a contract stops silently). Computed beside the employees'
-- merges, off the critical path; narrow, so that int_contrats_declares copies the contract's
-- columns once.
-- @kind table
-- @key fichier, contrat_ligne
with periodes as (
    select fichier, individu_ligne, numero, max(fin) as fin
    from stg_remunerations
    group by fichier, individu_ligne, numero
)
select c.fichier, c.contrat_ligne, i.salarie_key,
       substr(md5(concat('contrat|', c.siret, '|', i.salarie_key, '|', c.contrat_key)), 1, 16)
           as contrat_id_nouveau,
       substr(md5(concat('etablissement|', c.siret)), 1, 16) as etablissement_id_nouveau,
       case when c.poste_key is not null then substr(md5(concat('poste|', c.poste_key)), 1, 16) end
           as poste_id_nouveau,
       q.fin as fin_derniere_periode
from stg_contrats c
join int_declarations_nouvelles n on n.version_declaration = c.version_declaration
join stg_individus i on i.fichier = c.fichier and i.individu_ligne = c.individu_ligne
left join periodes q
    on q.fichier = c.fichier and q.individu_ligne = c.individu_ligne and q.numero = c.numero
