"""One scoped mixin owns ``get_queryset``/``get_object`` (STYLE 17).

Subclasses implement ``scoped_queryset(partner)`` and may not override ``get_queryset`` or ``get_object``:
the partner always comes from the authenticated staff user, and another partner's object is a 404.
"""

from __future__ import annotations

from django.http import Http404


class PartnerScopedMixin:
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("get_queryset", "get_object"):
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} must not override {name}; implement scoped_queryset()")

    def scoped_queryset(self, partner):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_queryset(self):
        partner = getattr(self.request, "staff_partner", None)
        if partner is None:
            raise Http404
        return self.scoped_queryset(partner)

    def get_object(self):
        queryset = self.filter_queryset(self.get_queryset())
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        try:
            obj = queryset.get(**{self.lookup_field: self.kwargs[lookup_url_kwarg]})
        except (queryset.model.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        self.check_object_permissions(self.request, obj)
        return obj
