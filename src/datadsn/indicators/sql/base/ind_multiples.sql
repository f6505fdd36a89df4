-- Employees with several poste-mois in one period: the only ones a cell has to count with
-- DISTINCT (every other poste-mois is its employee's only row in the period, so it counts one
-- employee in any cell holding it). Candidates: employees with several contracts, and every row
-- of a period spanning several months of the window.
WITH plusieurs_contrats AS (
    SELECT salarie_id FROM contrats GROUP BY salarie_id HAVING count(*) > 1
)
SELECT p.periode, p.salarie_id
FROM ind_postes AS p
WHERE p.poids_moyenne < 1 OR p.salarie_id IN (SELECT salarie_id FROM plusieurs_contrats)
GROUP BY p.periode, p.salarie_id
HAVING count(*) > 1
