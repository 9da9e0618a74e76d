from trytond.tests.test_tryton import DB_NAME, load_doc_tests


def load_tests(*args, **kwargs):
    if DB_NAME == ':memory:':
        # The scenarios serve trytond from another thread, which cannot see
        # an in-memory SQLite database: scripts/test-tryton uses a file.
        kwargs.setdefault('skips', set()).update({
                'scenario_account_payment_ogone_check.rst',
                'scenario_account_payment_ogone.rst',
                'scenario_account_payment_ogone_feedback.rst',
                'scenario_account_payment_ogone_directlink.rst',
                'scenario_account_payment_ogone_group.rst',
                'scenario_account_payment_ogone_cards.rst',
                'scenario_account_payment_ogone_refund.rst',
                'scenario_account_payment_ogone_invoice.rst',
                'scenario_account_payment_ogone_refund_invoice.rst',
                'scenario_account_payment_ogone_lower_capture.rst',
                'scenario_account_payment_ogone_declined_later.rst',
                })
    return load_doc_tests(__name__, __file__, *args, **kwargs)
