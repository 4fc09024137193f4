"""`python -m treatywatch.notify` runs the service."""

from treatywatch.notify.app import main

main()
