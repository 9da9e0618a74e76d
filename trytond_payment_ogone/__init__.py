# The Tryton module "account_payment_ogone": receive payments through Ogone's hosted payment page.
# Classes are registered from tryton.cfg; importing routes here makes the router importable early.
from . import routes

__all__ = [routes]
