#!/bin/sh
# A tool the download step installs.
echo "tool 1.0"
