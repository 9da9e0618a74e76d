from trytond.exceptions import UserWarning


class OgoneAccountWarning(UserWarning):
    pass
