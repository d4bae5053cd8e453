"""服务智治 smart_service: events, dispatch, 随手拍, 预约代办, Open311."""
