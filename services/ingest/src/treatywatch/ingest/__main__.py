"""`python -m treatywatch.ingest` runs the service."""

from treatywatch.ingest.app import main

main()
