"""Drivers for people, not the product: `make bench`, `make chaos`, `make scale`, `make bench-inbox`.

They run from the project root with the development virtualenv; neither the installed
package nor the runtime image carries them.
"""
