"""Industrialised flows (issue 7): declarative specs, monthly runs and deliveries.

- ``spec``: the YAML format and its schema, errors explained in French;
- ``habilitation``: a flow serves one approved habilitation and stays inside its frozen scope;
- ``run``: produce, audit and publish one month atomically under ``<warehouse>/deliveries``;
- ``gallery``: the templates shipped in ``templates/``;
- ``adapter``: the only module that calls the indicators package.
"""
