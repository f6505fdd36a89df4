"""The DataDSN service portal: a Django project (catalogue, documentation, requests, comité)."""
