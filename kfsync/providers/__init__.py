"""The products kfsync manages, one package each, behind the `base.Provider` seam."""
