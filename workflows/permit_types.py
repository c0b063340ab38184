"""What a permit's life after its issue takes and reports.

The national ride-hailing regulatory platform (网约车监管信息交互平台) keeps one record per licensed
vehicle and is told when its permit is issued and when it is cancelled or lapses: the permit's
workflow hands these to `activities/regulator.py`. The record holds personal data (owner, plate,
VIN): it travels in encrypted Temporal payloads and is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegulatorVehicleRecord:
    """The platform's vehicle base-information record (车辆基本信息) of a licensed vehicle.

    Days are ISO dates; ``annual_review`` is the 年度审验 state ("qualified", "due", "lapsed");
    ``state`` is "valid" or "invalid".
    """

    permit_number: str  # 网络预约出租汽车运输证号
    administrative_area: str  # 行政区划代码 of the issuing city or district, six digits
    plate: str
    plate_colour: str  # 车牌颜色 as PSB records it ("蓝色", "渐变绿色", ...)
    seats: int
    brand: str
    model: str
    vehicle_type: str  # 车辆类型 ("小型轿车", ...)
    owner: str  # 车辆所有人
    vin: str
    registered_on: str  # 车辆注册日期
    fuel: str
    issuing_authority: str  # 发证机构
    operating_area: str  # 经营区域
    valid_from: str  # 运输证有效期起
    valid_until: str  # 运输证有效期止
    annual_review: str
    state: str


@dataclass(frozen=True)
class RegulatorStateChange:
    """A permit's record turned "valid" or "invalid" (注销, lapse), with the reason said to the platform."""

    permit_number: str
    state: str
    reason: str
