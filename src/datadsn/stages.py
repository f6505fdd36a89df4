"""The stages plugged into the warehouse catalogue: the modules that register a catalogue hook
(``engine.warehouse.register_catalog_hook``), imported before each rebuild so that whichever
command rebuilds the catalogue (an ingestion after a consolidation, say) keeps every stage's
views. Listed here, outside the engine, so that the engine names no stage."""

CATALOG_VIEW_MODULES = ("datadsn.quality.snapshot",)
