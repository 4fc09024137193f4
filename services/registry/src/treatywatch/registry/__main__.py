"""`python -m treatywatch.registry` runs the service."""

from treatywatch.registry.app import main

main()
