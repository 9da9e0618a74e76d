"""gunicorn settings of ``bench_feedback.py --profile``: each worker writes its profile when it exits."""


def worker_exit(server, worker):
    import wsgi
    wsgi.dump_profile()
