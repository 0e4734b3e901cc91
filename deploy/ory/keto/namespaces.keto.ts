// Truss's permission model in the Ory Permission Language. Every check is
// scoped to a tenant: a subject gets nothing from a tenant it has no
// relation to.
import { Namespace, Context } from "@ory/keto-namespace-types"

class User implements Namespace {}

class Tenant implements Namespace {
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
      this.related.members.includes(ctx.subject) ||
      this.permits.manage(ctx),
  }
}
