"""The run models: per-item results and the run record, as stored, compared and gated on."""
