"""The catalogue blueprint: vaccines and centers, public to read and admin-managed."""

from __future__ import annotations

from flask import jsonify

from backend.api import Blueprint
from backend.auth.tokens import current_user
from backend.models import Center, Vaccine
from backend.vaccination import catalogue
from backend.vaccination.schemas import (
    CenterCreateSchema,
    CenterQuerySchema,
    CenterSchema,
    CenterUpdateSchema,
    VaccineCreateSchema,
    VaccineSchema,
    VaccineUpdateSchema,
)

blp = Blueprint("catalogue", __name__, description="Vaccines and vaccination centers")
ID = "<id:{}>"


@blp.route("/vaccines")
@blp.response(200, VaccineSchema(many=True))
def list_vaccines():
    """List the vaccines"""
    return catalogue.vaccines()


@blp.route("/vaccines", methods=["POST"])
@blp.admin_required
@blp.arguments(VaccineCreateSchema)
@blp.response(201, VaccineSchema)
@blp.alt_response(409, response="CONFLICT")
def create_vaccine(fields):
    """Add a vaccine (admin)"""
    return catalogue.save(Vaccine(), fields, actor=current_user())


@blp.route(f"/vaccines/{ID.format('vaccine_id')}", methods=["PATCH"])
@blp.admin_required
@blp.arguments(VaccineUpdateSchema)
@blp.response(200, VaccineSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def update_vaccine(fields, vaccine_id):
    """Change a vaccine (admin)"""
    return catalogue.save(catalogue.get_vaccine(vaccine_id), fields, actor=current_user())


@blp.route(f"/vaccines/{ID.format('vaccine_id')}", methods=["DELETE"])
@blp.admin_required
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def delete_vaccine(vaccine_id):
    """Delete a vaccine no registration uses (admin)"""
    catalogue.delete_vaccine(catalogue.get_vaccine(vaccine_id), actor=current_user())


@blp.route("/centers")
@blp.arguments(CenterQuerySchema, location="query")
@blp.response(200, CenterSchema(many=True))
@blp.paginate()
def list_centers(query, pagination_parameters):
    """List the active centers, by city (ignoring case) or part of the name or address"""
    centers, total = catalogue.search_centers(
        query.get("city"),
        query.get("q"),
        query["include_inactive"],
        pagination_parameters.page,
        pagination_parameters.page_size,
    )
    pagination_parameters.item_count = total
    return centers


@blp.route(f"/centers/{ID.format('center_id')}")
@blp.response(200, CenterSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_center(center_id):
    """One center"""
    return catalogue.get_center(center_id)


@blp.route("/centers", methods=["POST"])
@blp.admin_required
@blp.arguments(CenterCreateSchema)
@blp.response(201, CenterSchema)
def create_center(fields):
    """Add a center (admin)"""
    return catalogue.save(Center(), fields, actor=current_user())


@blp.route(f"/centers/{ID.format('center_id')}", methods=["PATCH"])
@blp.admin_required
@blp.arguments(CenterUpdateSchema)
@blp.response(200, CenterSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_center(fields, center_id):
    """Change or (de)activate a center (admin)"""
    return catalogue.save(catalogue.get_center(center_id), fields, actor=current_user())


@blp.route(f"/centers/{ID.format('center_id')}", methods=["DELETE"])
@blp.admin_required
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def delete_center(center_id):
    """Delete a center no registration uses (admin); deactivate a used one instead"""
    catalogue.delete_center(catalogue.get_center(center_id), actor=current_user())


@blp.route("/cities")
@blp.response(200, {"type": "array", "items": {"type": "string"}})
def list_cities():
    """The cities that have an active center"""
    return jsonify(catalogue.cities())
