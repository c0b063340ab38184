"""MIIT's announcement of new-energy vehicle ranges (新能源汽车续航里程公告)."""

from collections.abc import Mapping

from sandbox.errors import DepartmentError
from sandbox.routing import department_router
from sandbox.state import JSON

router = department_router("miit")

_CATALOGUE: tuple[tuple[tuple[str, ...], int], ...] = (
    (("比亚迪秦PLUS EV", "BYD Qin PLUS EV"), 510),
    (("比亚迪海豚", "BYD Dolphin"), 420),
    (("广汽埃安AION S Plus", "GAC Aion S Plus"), 610),
    (("特斯拉Model 3", "Tesla Model 3"), 606),
    (("吉利几何A Pro", "Geely Geometry A Pro"), 430),
    (("奇瑞小蚂蚁", "Chery eQ1"), 250),
    (("比亚迪秦PLUS DM-i", "BYD Qin PLUS DM-i"), 120),
    (("荣威RX5 ePLUS", "Roewe RX5 ePLUS"), 52),
)
NEV_RANGE_KM: Mapping[str, int] = {name: km for names, km in _CATALOGUE for name in names}
"""Range by model name (Chinese or English); for plug-in hybrids, the electric range."""
_BY_KEY = {name.casefold(): name for name in NEV_RANGE_KM}


@router.get("/nev-range")
async def get_nev_range(model: str) -> JSON:
    """The announced range of a model, matched without regard to case."""
    name = _BY_KEY.get(model.strip().casefold())
    if name is None:
        raise DepartmentError(404, "model_not_in_catalogue", "The model is not in the catalogue.")
    return {"model": name, "range_km": NEV_RANGE_KM[name]}
