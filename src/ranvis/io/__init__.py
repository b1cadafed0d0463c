"""Images in and out: ``images`` (load any Pillow image or bundled sample, resize, atomic save),
``coerce`` (every image form the API accepts, as a tensor or an InputError), ``record`` (the run
record: atomic JSON, loss plot)."""
