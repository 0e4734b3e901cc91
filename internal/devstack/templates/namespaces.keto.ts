// Ory Keto namespaces of Truss, in the Ory Permission Language. Truss writes
// this file (KETO_NAMESPACES_FILE): its default model comes from
// internal/keto/opl/default.keto.ts, and each tenant's custom model from the
// tenant's active version in PostgreSQL. Keto reloads it on every change.
import { Namespace, Context, SubjectSet } from "@ory/keto-namespace-types"

// truss:begin defaults
class User implements Namespace {}

// Organization roles: owners and admins manage it, members work in it,
// viewers only look.
class Organization implements Namespace {
  related: {
    owners: User[]
    admins: User[]
    members: User[]
    viewers: User[]
  }

  permits = {
    delete: (ctx: Context): boolean => this.related.owners.includes(ctx.subject),
    manage: (ctx: Context): boolean =>
      this.related.owners.includes(ctx.subject) ||
      this.related.admins.includes(ctx.subject),
    edit: (ctx: Context): boolean =>
      this.permits.manage(ctx) || this.related.members.includes(ctx.subject),
    view: (ctx: Context): boolean =>
      this.permits.edit(ctx) || this.related.viewers.includes(ctx.subject),
  }
}

// A project belongs to an organization (the "organization" relation) and
// inherits from it: the organization's managers manage the project, and
// whoever may view the organization may view its projects. Editors and
// viewers may be users or a whole organization's members.
class Project implements Namespace {
  related: {
    organization: Organization[]
    owners: User[]
    editors: (User | SubjectSet<Organization, "members">)[]
    viewers: (User | SubjectSet<Organization, "members">)[]
  }

  permits = {
    delete: (ctx: Context): boolean =>
      this.related.owners.includes(ctx.subject) ||
      this.related.organization.traverse((o) => o.permits.delete(ctx)),
    manage: (ctx: Context): boolean =>
      this.related.owners.includes(ctx.subject) ||
      this.related.organization.traverse((o) => o.permits.manage(ctx)),
    edit: (ctx: Context): boolean =>
      this.permits.manage(ctx) || this.related.editors.includes(ctx.subject),
    view: (ctx: Context): boolean =>
      this.permits.edit(ctx) ||
      this.related.viewers.includes(ctx.subject) ||
      this.related.organization.traverse((o) => o.permits.view(ctx)),
  }
}

// Truss's own tenants (not reachable through /api/keto): the roles of
// truss_internal.tenant_members, mirrored here; "manage" gates changes to
// a tenant's permission model.
class TrussTenant implements Namespace {
  related: {
    owners: User[]
    admins: User[]
    members: User[]
  }

  permits = {
    manage: (ctx: Context): boolean =>
      this.related.owners.includes(ctx.subject) ||
      this.related.admins.includes(ctx.subject),
    view: (ctx: Context): boolean =>
      this.permits.manage(ctx) || this.related.members.includes(ctx.subject),
  }
}
// truss:end defaults

// The revision of this file, for Truss to see when Keto has loaded it.
class TrussRevision0 implements Namespace {}
