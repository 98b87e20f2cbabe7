"""One module per `kfsync` command, each exposing a click `command`."""
