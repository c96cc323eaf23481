"""indicators.coverage"""
