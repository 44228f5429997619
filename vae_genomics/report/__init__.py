"""Reports: figures and HTML drawn from numbers that ``evaluation`` computed."""
