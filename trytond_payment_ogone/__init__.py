# The Tryton module "account_payment_ogone": receive payments through Ogone's hosted payment page.
# Classes are registered from tryton.cfg [register]; nothing is imported here, so that importing the package
# (for its demo, say) does not configure trytond before its caller does.
